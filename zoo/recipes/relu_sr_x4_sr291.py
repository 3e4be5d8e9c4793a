"""relu_sr_x4 (the ReLU twin of xunit_sr_x4) with exactly xunit_sr_x4's recipe and budget."""

from zoo.recipes._sr import make_sr_recipe

RECIPE = make_sr_recipe(name="relu_sr_x4_sr291", model="relu_sr_x4", scale=4, weight_name="relu_sr_x4.sr291")

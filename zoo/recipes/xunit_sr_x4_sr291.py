"""xunit_sr_x4 on T91 + BSD200: see zoo/recipes/_sr.py for the data, loss and schedule."""

from zoo.recipes._sr import make_sr_recipe

RECIPE = make_sr_recipe(name="xunit_sr_x4_sr291", model="xunit_sr_x4", scale=4, weight_name="xunit_sr_x4.sr291")

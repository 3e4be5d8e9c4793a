"""xunit_dn_s25 (xDnCNN) on Train400: see zoo/recipes/_dn.py for data, loss and schedule."""

from zoo.recipes._dn import make_dn_recipe

RECIPE = make_dn_recipe(name="xunit_dn_s25", model="xunit_dn_s25", sigma=25, epochs=40, steps_per_epoch=500,
                        batch_size=32)

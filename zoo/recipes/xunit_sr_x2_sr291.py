"""xunit_sr_x2 on T91 + BSD200, warm-started from the published xunit_sr_x4.sr291.

The LR-space body of the x2/x3/x4 nets is identical; only ``tail_conv`` (3*s^2 outputs) depends
on the scale.  So the body starts from the x4 weights (verified by sha256 like any published
weight), the tail starts fresh, and the whole net trains 20,000 steps at half the x4 learning
rate -- half the x4 budget (EDSR trains its x3/x4 models the same way from x2).  Data, loss and
schedule: zoo/recipes/_sr.py.
"""

from zoo.recipes._sr import make_sr_recipe

RECIPE = make_sr_recipe(name="xunit_sr_x2_sr291", model="xunit_sr_x2", scale=2, weight_name="xunit_sr_x2.sr291",
                        epochs=20, lr=5e-4, init_from="xunit_sr_x4.sr291", init_skip=("tail_conv",),
                        description=__doc__)

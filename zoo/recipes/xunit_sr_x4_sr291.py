"""xunit_sr_x4 on T91 + BSD200: see zoo/recipes/_sr.py for the data, loss and schedule.

Version 2 trains the phone-first design: 45 filters, 4 blocks, 3x3 xUnit kernels (97,068
parameters).  TFLite's XNNPACK has fast depthwise kernels up to 5x5 only, and at 2,000 steps
the 3x3 design was also the most accurate variant (docs/sr_design_x4.md).  Version 1 (43
filters, 7x7 kernels) produced xunit_sr_x4.sr291 at commit cbcc8ef; version 2 produces
xunit_sr_x4.sr291_k3, the default weights.
"""

from zoo.recipes._sr import make_sr_recipe

RECIPE = make_sr_recipe(name="xunit_sr_x4_sr291", model="xunit_sr_x4", scale=4, weight_name="xunit_sr_x4.sr291_k3",
                        builder_kwargs={"filters": 45, "blocks": 4, "kernel_size": 3}, version=2,
                        description=__doc__)

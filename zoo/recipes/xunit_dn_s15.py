"""xunit_dn_s15 (xDnCNN) on Train400, sigma 15, warm-started from the published xunit_dn_s25.train400.

The architecture does not depend on sigma, so the sigma-25 weights (trained from scratch by
zoo/recipes/xunit_dn_s25.py, verified by sha256) start this run: 5,000 steps at half the
sigma-25 learning rate instead of a second from-scratch run (CPU budget).  Data, loss and
schedule: zoo/recipes/_dn.py.
"""

from zoo.recipes._dn import make_dn_recipe

RECIPE = make_dn_recipe(name="xunit_dn_s15", model="xunit_dn_s15", sigma=15, epochs=10, steps_per_epoch=500,
                        batch_size=32, lr=5e-4,
                        init_from="xunit_dn_s25.train400", description=__doc__)

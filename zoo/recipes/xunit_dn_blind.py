"""xunit_dn_blind (xDnCNN) on Train400, sigma uniform in [0, 55] per patch, warm-started from the
published xunit_dn_s25.train400.

The architecture does not depend on sigma, so the sigma-25 weights (trained from scratch by
zoo/recipes/xunit_dn_s25.py, verified by sha256) start this run: 10,000 steps at half the
sigma-25 learning rate instead of a second from-scratch run (CPU budget).  Data, loss and
schedule: zoo/recipes/_dn.py.
"""

from zoo.recipes._dn import make_dn_recipe

RECIPE = make_dn_recipe(name="xunit_dn_blind", model="xunit_dn_blind", sigma=None, epochs=20, steps_per_epoch=500,
                        batch_size=32, lr=5e-4,
                        init_from="xunit_dn_s25.train400", description=__doc__)

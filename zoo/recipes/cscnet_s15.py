"""cscnet_s15 (CSCNet) on Train400, sigma 15, warm-started from the published cscnet_s25.train400.

The architecture does not depend on sigma, so the sigma-25 weights (trained from scratch by
zoo/recipes/cscnet_s25.py, verified by sha256) start this run: 5,000 steps at half the
sigma-25 learning rate instead of a second from-scratch run (CPU budget).  Data, loss and
schedule: zoo/recipes/_dn.py.

Trained on the single shift (shift_average=False) and evaluated with the 64-shift average,
as in the paper.
"""

from zoo.recipes._dn import make_dn_recipe

RECIPE = make_dn_recipe(name="cscnet_s15", model="cscnet_s15", sigma=15, epochs=10, steps_per_epoch=500,
                        batch_size=16, patch_size=64, lr=1e-4,
                        init_from="cscnet_s25.train400", builder_kwargs={"shift_average": False}, description=__doc__)

"""xunit_dn_s25 (xDnCNN, sigma 25) trained longer: xunit_dn_s25.train400 continued for 20,000 steps.

The sigma-25 recipe (zoo/recipes/xunit_dn_s25.py: 20,000 steps of 32 patches) ends below
DnCNN-S on Set12 while the authors' weights for the same architecture match it
(docs/results.md, docs/ports.md): the net is under-trained, not too small.  This recipe restarts
the cosine schedule from the published xunit_dn_s25.train400 (verified by sha256) at half
the first run's learning rate, on a new patch stream (seed 2025), for another 40 x 500 steps;
it produces xunit_dn_s25.train400_long and leaves the first weights reproducible.
Data, loss and schedule: zoo/recipes/_dn.py.
"""

from zoo.recipes._dn import make_dn_recipe

RECIPE = make_dn_recipe(name="xunit_dn_s25_long", model="xunit_dn_s25", sigma=25, epochs=40, steps_per_epoch=500,
                        batch_size=32, lr=5e-4, seed=2025, init_from="xunit_dn_s25.train400",
                        tag="train400_long", description=__doc__)

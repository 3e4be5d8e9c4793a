"""cscnet_s25 (CSCNet, convolutional LISTA) on Train400: see zoo/recipes/_dn.py.

Trained on the single shift (shift_average=False, 64x64 patches on the stride-8 grid) and
evaluated with the 64-shift average the architecture defaults to, as in the paper.
"""

from zoo.recipes._dn import make_dn_recipe

RECIPE = make_dn_recipe(name="cscnet_s25", model="cscnet_s25", sigma=25, epochs=40, steps_per_epoch=500,
                        batch_size=16, patch_size=64, lr=2e-4, builder_kwargs={"shift_average": False})

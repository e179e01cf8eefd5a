"""inpaint-toolkit: semantic image inpainting with deep generative models.

The method is Yeh et al., "Semantic Image Inpainting with Deep Generative Models"
(CVPR 2017): search a trained GAN generator's latent space for the code whose image
matches the known pixels (context loss) and looks real to the discriminator (prior
loss), then blend the generated pixels into the hole.
"""

__version__ = "0.1.0"

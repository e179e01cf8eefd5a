"""Face data: training and test sets (npz, zip archives, folders, CelebA) and run inputs."""

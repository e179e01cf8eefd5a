"""Measuring results: the prior's scores, and (moving here) inpainting metrics and the judge."""

"""`/v1/images/*` on Workers AI text-to-image models: generations, edits (img2img, inpainting) and
variations, stored in R2 or a local directory and served back at signed links."""

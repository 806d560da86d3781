"""Media the gateway handles itself: images decoded and converted (Pillow), stored images' keys and links."""

"""The landscape layer: the census of critical points, connections between them, pictures."""

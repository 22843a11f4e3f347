"""Pictures of explanations, one module per kind of figure (``maps``: maps over images, top-k, patches)."""

from labkit.viz.maps import resize_map, show_heatmap, show_maps, show_patches, show_topk, to_numpy_image

__all__ = ["resize_map", "show_heatmap", "show_maps", "show_patches", "show_topk", "to_numpy_image"]

"""Needs labkit.attribution.grad_cam, from the attribution methods' branch (fails until it is merged)."""


def test_grad_cam_points_at_the_shapes(shapes_resnet18_batch, beats_random):
    from labkit.attribution import grad_cam

    clf, inputs, labels, masks = shapes_resnet18_batch
    maps = grad_cam(clf.model, inputs, labels, layer=clf.cam_layer)
    beats_random(maps, masks)

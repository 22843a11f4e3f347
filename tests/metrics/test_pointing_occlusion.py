from labkit.attribution import occlusion


def test_occlusion_points_at_the_shapes(shapes_resnet18_batch, beats_random):
    clf, inputs, labels, masks = shapes_resnet18_batch
    maps = occlusion(clf.model, inputs, labels, patch=8, stride=4)
    beats_random(maps, masks)

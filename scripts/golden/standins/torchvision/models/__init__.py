"""torchvision.models names that BiRefNet's build_backbone imports; only its VGG / ResNet
backbones call them, which the golden data (Swin-V1) do not use."""


def _unavailable(*args, **kwargs):
    raise NotImplementedError("torchvision stand-in: no torchvision.models")


vgg16 = vgg16_bn = resnet50 = _unavailable
VGG16_Weights = VGG16_BN_Weights = ResNet50_Weights = None

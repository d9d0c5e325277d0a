"""Stand-in for huggingface_hub (not installed): PyTorchModelHubMixin only adds from_pretrained /
save_pretrained, which the golden run does not use; its class keywords are accepted and ignored."""


class PyTorchModelHubMixin:
    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__()

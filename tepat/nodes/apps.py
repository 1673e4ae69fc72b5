from django.apps import AppConfig


class NodesConfig(AppConfig):
    # No models and no pages: nothing of it is shown, so no translated name.
    name = "tepat.nodes"
    label = "nodes"

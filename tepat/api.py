from ninja import NinjaAPI

api = NinjaAPI(title="Tepat API", version="1", urls_namespace="api")

app_name = "casefiles-api"

urlpatterns = []

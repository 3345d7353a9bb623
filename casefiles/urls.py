app_name = "casefiles"

urlpatterns = []

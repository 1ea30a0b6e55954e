"""Round 11's held-out shapes of what a Django / RQ worker parent has imported before it forks:
django-configurations' class settings, URLconfs included by name, RQ's CLI run in-process. Each
is a small reproduction written for this suite, with the findings that must and must not be
reported as inline `# FRKxxx:col` comments."""

from __future__ import annotations

# --- URLconfs included by name ---------------------------------------------------------------

REPORTS = {
    "Procfile": "worker: python manage.py rqworker default\n",
    "manage.py": """
        import os
        import sys

        if __name__ == "__main__":
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_conf.settings")
            from django.core.management import execute_from_command_line

            execute_from_command_line(sys.argv)
    """,
    "site_conf/__init__.py": "",
    "site_conf/settings.py": """
        INSTALLED_APPS = ["django_rq", "reports"]
        ROOT_URLCONF = "site_conf.urls"
    """,
    "reports/__init__.py": "",
    "reports/urls.py": """
        from django.urls import path

        from .views import start

        urlpatterns = [path("", start)]
    """,
    "reports/views.py": """
        import django_rq

        from .jobs import build


        def start(request):
            django_rq.enqueue(build)
    """,
    "reports/jobs.py": """
        import pandas


        def build():
            return pandas.DataFrame()
    """,
}


def test_a_urlconf_included_by_its_dotted_name_is_imported_by_the_url_check(project) -> None:
    # held-out round 11, rnacentral-webcode: `include("app.urls")` imports the app's URLconf
    # (and its views, and the job module) when the root URLconf is imported
    files = dict(REPORTS)
    files["site_conf/urls.py"] = """
        from django.urls import include, path

        urlpatterns = [path("reports/", include("reports.urls"))]
    """
    project.assert_expected(files, {"FRK101"})


def test_a_urlconf_included_with_its_app_name_is_imported_too(project) -> None:
    # held-out round 11, rnacentral-webcode: `include(("app.urls", "app"))` under the old
    # `url()` of django.conf.urls
    files = dict(REPORTS)
    files["site_conf/urls.py"] = """
        from django.conf.urls import include, url

        urlpatterns = [url(r"^reports/", include(("reports.urls", "reports"), namespace="r"))]
    """
    project.assert_expected(files, {"FRK101"})


def test_a_urlconf_the_root_urlconf_does_not_include_is_not_imported(project) -> None:
    # the control: a string that is not include()'s argument imports nothing
    files = dict(REPORTS)
    files["site_conf/urls.py"] = """
        from django.urls import path

        REPORTS_URLCONF = "reports.urls"
        urlpatterns = []
    """
    files["reports/jobs.py"] = """
        import pandas


        def build():  # FRK101:5
            return pandas.DataFrame()
    """
    project.assert_expected(files, {"FRK101"})

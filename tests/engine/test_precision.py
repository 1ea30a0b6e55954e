"""The shapes of real projects that made forklint wrong, one test per class of issue 8: each is a
small reproduction written for this suite (not copied from the projects), with the findings
that must and must not be reported as inline `# FRKxxx:col` comments."""

from __future__ import annotations

DJANGO_MODELS = """
    from django.db import models


    class Device(models.Model):
        name = models.CharField(max_length=50)


    class Site(models.Model):
        slug = models.SlugField()
"""


# --- 1. Django querysets are lazy -------------------------------------------------------------


def test_django_querysets_are_lazy_until_evaluated(project) -> None:
    project.assert_expected(
        {
            "inventory/__init__.py": "",
            "inventory/models.py": DJANGO_MODELS,
            "inventory/views.py": """
                from inventory.models import Device, Site


                class DeviceListView:
                    queryset = Device.objects.all()
                    filtered = Device.objects.filter(name="a").exclude(name="b").order_by("name")
                    related = Site.objects.select_related("x").prefetch_related("y").none()


                DEFAULT_SITES = Site.objects.values_list("slug", flat=True)
                FIRST = Device.objects.first()  # FRK201:9
                COUNT = Device.objects.filter(name="a").count()  # FRK201:9
                NAMES = list(Device.objects.all())  # FRK201:9
                for site in Site.objects.all():  # FRK201:13
                    pass
                ONE = Device.objects.all()[0]  # FRK201:7
                SLUGS = [s.slug for s in Site.objects.filter(slug="x")]  # FRK201:26
                CUSTOM = Device.objects.for_user("someone")
            """,
        },
        {"FRK201"},
    )


def test_flask_sqlalchemy_queries_are_lazy_until_evaluated(project) -> None:
    project.assert_expected(
        {
            "app/__init__.py": "",
            "app/models.py": """
                from flask_sqlalchemy import SQLAlchemy

                db = SQLAlchemy()


                class User(db.Model):
                    id = db.Column(db.Integer, primary_key=True)
            """,
            "app/admin.py": """
                from app.models import User, db

                ACTIVE = User.query.filter_by(active=True).order_by(User.id)
                SESSION_QUERY = db.session.query(User).filter(User.id > 3)
                EVERYONE = User.query.all()  # FRK201:12
                FIRST = db.session.query(User).first()  # FRK201:9
            """,
        },
        {"FRK201"},
    )

"""A worker parent that inspects a mapped class's attributes has configured the mappers.

SQLAlchemy configures every mapper defined so far when something reads all of a mapper's
attributes (`Mapper.attrs`, `.relationships`...). Checked by running each form against
SQLAlchemy 1.4 and 2.x: a marshmallow-sqlalchemy / Flask-Marshmallow schema class with
`class Meta: model = Model` (at class definition), a graphene-sqlalchemy object type, a
WTForms-Alchemy `ModelForm`, `flask_admin.contrib.sqla.ModelView(Model, session)` and
`class_mapper(Model)`. A parent that does any of these after loading the models has configured
them: FRK102 would be false. Without one (or with a schema naming no mapped class), FRK102 holds.
"""

from __future__ import annotations

import pytest

from tests.engine.test_precision import MODELS

TASKS = """
    from shop.models import Event


    def record(account_id):  # {expect}
        return Event(account_id=account_id)
"""

WORKER = """
    from redis import Redis
    from rq import Queue, Worker

    from shop import tasks
    {imports}


    def enqueue(account_id):
        Queue("default", connection=Redis()).enqueue(tasks.record, account_id)


    def main():
        {before}
        Worker(["default"], connection=Redis()).work()


    if __name__ == "__main__":
        main()
"""

SCHEMAS = {
    "marshmallow-auto": """
        from marshmallow_sqlalchemy import SQLAlchemyAutoSchema

        from shop.models import Account


        class AccountSchema(SQLAlchemyAutoSchema):
            class Meta:
                model = Account
    """,
    "flask-marshmallow": """
        from flask_marshmallow import Marshmallow

        from shop.models import Account

        ma = Marshmallow()


        class AccountSchema(ma.SQLAlchemyAutoSchema):
            class Meta:
                model = Account
                load_instance = True
    """,
    "graphene": """
        from graphene_sqlalchemy import SQLAlchemyObjectType

        from shop.models import Account


        class AccountType(SQLAlchemyObjectType):
            class Meta:
                model = Account
    """,
    "wtforms-alchemy": """
        from wtforms_alchemy import ModelForm

        from shop.models import Account


        class AccountForm(ModelForm):
            class Meta:
                model = Account
    """,
}


def _project(schemas: str | None, before: str = "pass", expect: str = "") -> dict[str, str]:
    files = {
        "shop/__init__.py": "",
        "shop/models.py": MODELS,
        "shop/tasks.py": TASKS.replace("# {expect}", f"# {expect}" if expect else ""),
        "shop/worker.py": WORKER.replace(
            "{imports}", "from shop import schemas" if schemas is not None else ""
        ).replace("{before}", before),
    }
    if schemas is not None:
        files["shop/schemas.py"] = schemas
    return files


@pytest.mark.parametrize("form", sorted(SCHEMAS))
def test_a_parent_that_imports_a_schema_of_a_mapped_class_has_configured_the_mappers(
    project, form
) -> None:
    project.assert_expected(_project(SCHEMAS[form]), {"FRK102"})


def test_without_the_schema_the_horse_configures_the_mappers(project) -> None:
    project.assert_expected(_project(None, expect="FRK102:5"), {"FRK102"})


def test_a_schema_that_names_no_mapped_class_configures_nothing(project) -> None:
    # a marshmallow schema of a plain class (or a Meta without `model`) inspects no mapper
    schemas = """
        from marshmallow_sqlalchemy import SQLAlchemyAutoSchema


        class Plain:
            pass


        class BaseSchema(SQLAlchemyAutoSchema):
            class Meta:
                load_instance = True


        class PlainSchema(SQLAlchemyAutoSchema):
            class Meta:
                model = Plain
    """
    project.assert_expected(_project(schemas, expect="FRK102:5"), {"FRK102"})


@pytest.mark.parametrize(
    "before",
    [
        "admin.add_view(ModelView(Account, session))",
        "class_mapper(Account)",
    ],
)
def test_a_parent_that_inspects_a_mapped_class_before_work_has_configured_the_mappers(
    project, before
) -> None:
    files = _project(None, before=before)
    files["shop/worker.py"] = files["shop/worker.py"].replace(
        "from shop import tasks",
        "from flask_admin import Admin\n    from flask_admin.contrib.sqla import ModelView\n"
        "    from sqlalchemy.orm import Session, class_mapper\n\n"
        "    from shop import tasks\n    from shop.models import Account\n\n"
        "    admin = Admin()\n    session = Session()",
    )
    project.assert_expected(files, {"FRK102"})

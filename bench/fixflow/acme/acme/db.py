"""Two databases: the app's and the analytics warehouse."""
import os

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

engine = create_engine(os.environ.get("APP_DB", "sqlite:///app.sqlite"))
warehouse = create_engine(os.environ.get("WAREHOUSE_DB", "sqlite:///warehouse.sqlite"))

Session = sessionmaker(bind=engine)


def dispose_warehouse():
    warehouse.dispose(close=False)

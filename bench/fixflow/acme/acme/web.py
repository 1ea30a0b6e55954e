from flask import Flask

from acme.views import bp


def get_app():
    return Flask(__name__)


def create_app():
    app = get_app()
    app.register_blueprint(bp)
    return app

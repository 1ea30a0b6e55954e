import joblib


def load_model(name: str):
    return joblib.load(f"models/{name}.joblib")

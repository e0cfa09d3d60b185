"""The baseline of bench_api.py: a bare Flask "hello" app, the ceiling of the HTTP stack."""

from flask import Flask

app = Flask(__name__)


@app.get("/hello")
def hello():
    return "hello\n"

"""Early returns: what follows them runs on every run of a job, or only on some."""

from __future__ import annotations


def test_work_after_an_early_return_on_a_setting_is_not_every_runs(project) -> None:
    # `if not METRICS_ENABLED: return` and `if app.config.get("DISABLE_EMAILS"): ... return`: the
    # client and the environment are built only where the deployment switches the feature on.
    # A validation of the job's own input (`if not url: return`) does not make what follows
    # conditional: on the normal path it runs every time.
    project.assert_expected(
        {
            "app/__init__.py": "",
            "app/settings.py": "METRICS_ENABLED = False\n",
            "app/tasks.py": """
                import boto3
                import jinja2
                from rq.decorators import job

                from app.settings import METRICS_ENABLED


                class Config:
                    def get(self, key, default=None):
                        return default


                class App:
                    config = Config()


                app = App()


                def post_metric(name):
                    if not METRICS_ENABLED:
                        return
                    client = boto3.client("cloudwatch")
                    client.put_metric_data(Namespace=name)


                def email_report(changes):
                    if app.config.get("DISABLE_EMAILS"):
                        print("emails are off")
                        return
                    env = jinja2.Environment()
                    return env.from_string("{{ changes }}").render(changes=changes)


                @job("default")
                def audit(url):
                    post_metric("audit")
                    email_report([url])


                @job("default")
                def fetch(url):
                    if not url:
                        return None
                    client = boto3.client("s3")  # FRK103:14
                    return client.get_object(Bucket="b", Key=url)
            """,
        },
        {"FRK103"},
    )

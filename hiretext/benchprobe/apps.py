from django.apps import AppConfig


class BenchprobeConfig(AppConfig):
    name = "hiretext.benchprobe"
    label = "benchprobe"
    verbose_name = "Benchmark calibration"

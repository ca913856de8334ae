from __future__ import annotations

from django.db import migrations, models  # type: ignore[import-untyped]


class Migration(migrations.Migration):  # type: ignore[misc]
    initial = True
    dependencies: list[tuple[str, str]] = []  # noqa: RUF012 - Django's shape
    operations = [  # noqa: RUF012 - Django's shape
        migrations.CreateModel(
            name="Tick",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("pid", models.IntegerField()),
                ("at", models.DateTimeField(auto_now_add=True)),
            ],
        ),
    ]

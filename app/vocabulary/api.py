"""GET /api/v1/vocabulary — every coded value the platform uses, with its Chinese label (the UI's one source)."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from . import VOCABULARIES, catalog, drugs

blp = Blueprint("vocabulary", __name__, url_prefix="/api/v1/vocabulary",
                description="Codes and Chinese labels (术语): diseases, risk levels, roles, organisation levels, …")


class TermSchema(Schema):
    code = fields.Str(required=True)
    label = fields.Str(required=True)
    aliases = fields.List(fields.Str(), metadata={"description": "old codes still accepted as input"})
    unit = fields.Str(allow_none=True, metadata={"description": "canonical unit (observation codes)"})


VocabularySchema = Schema.from_dict(
    {name: fields.List(fields.Nested(TermSchema), required=True) for name in (*VOCABULARIES, "observation_code", "display_time_zone")},
    name="VocabularySchema")


@blp.route("")
class Vocabulary(MethodView):
    @blp.response(200, VocabularySchema)
    def get(self) -> dict[str, list[dict[str, Any]]]:
        """List every vocabulary: `{disease: [{code, label}], risk_level: […], …}` (public: no personal data)."""
        return catalog()


class DrugSchema(Schema):
    drug = fields.Str(required=True, metadata={"description": "generic name, the code stored in a regimen line"})
    name_zh = fields.Str(required=True, metadata={"description": "中文通用名"})
    atc = fields.Str(required=True, metadata={"description": "WHO ATC code"})
    drug_class = fields.Str(required=True)


class DrugQuerySchema(Schema):
    q = fields.Str(load_default=None, metadata={"description": "part of the generic name, Chinese name or ATC code"})


@blp.route("/drugs")
class Drugs(MethodView):
    @blp.arguments(DrugQuerySchema, location="query")
    @blp.response(200, DrugSchema(many=True))
    def get(self, args: dict[str, Any]) -> list[dict[str, Any]]:
        """The drug catalogue (药品目录) for the regimen picker: generic name, Chinese name, ATC code, class
        (public: no personal data)."""
        return drugs.search(args.get("q"), limit=200)

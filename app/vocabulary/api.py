"""GET /api/v1/vocabulary — every coded value the platform uses, with its Chinese label (the UI's one source)."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from . import VOCABULARIES, catalog

blp = Blueprint("vocabulary", __name__, url_prefix="/api/v1/vocabulary",
                description="Codes and Chinese labels (术语): diseases, risk levels, roles, organisation levels, …")


class TermSchema(Schema):
    code = fields.Str(required=True)
    label = fields.Str(required=True)
    aliases = fields.List(fields.Str(), metadata={"description": "old codes still accepted as input"})
    unit = fields.Str(allow_none=True, metadata={"description": "canonical unit (observation codes)"})


VocabularySchema = Schema.from_dict(
    {name: fields.List(fields.Nested(TermSchema), required=True) for name in (*VOCABULARIES, "observation_code")},
    name="VocabularySchema")


@blp.route("")
class Vocabulary(MethodView):
    @blp.response(200, VocabularySchema)
    def get(self):
        """List every vocabulary: `{disease: [{code, label}], risk_level: […], …}` (public: no personal data)."""
        return catalog()

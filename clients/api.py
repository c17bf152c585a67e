"""REST API for importers and their program accounts, scoped by ``clients.access``."""

from django.db.models import QuerySet
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.exceptions import PermissionDenied

from clients import access
from clients.models import Importer, ProgramAccount
from clients.validators import normalize_bn9, normalize_bn15


class ProgramAccountSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProgramAccount
        fields = ["id", "importer", "bn15", "name", "status", "opened_on"]

    def validate_bn15(self, value: str) -> str:
        try:
            return normalize_bn15(value)
        except Exception as exc:  # Django ValidationError -> DRF field error
            raise serializers.ValidationError(getattr(exc, "messages", [str(exc)])) from None

    def validate_importer(self, importer: Importer) -> Importer:
        request = self.context["request"]
        if not access.visible_importers(request.user).filter(pk=importer.pk).exists():
            raise serializers.ValidationError("No such importer.")
        if not access.can(request.user, access.Perm.MANAGE_CLIENT, importer):
            raise PermissionDenied("Your role does not allow changing this importer's accounts.")
        return importer

    def validate(self, attrs: dict) -> dict:
        importer = attrs.get("importer") or getattr(self.instance, "importer", None)
        bn15 = attrs.get("bn15") or getattr(self.instance, "bn15", "")
        if importer is not None and bn15 and bn15[:9] != importer.bn9:
            raise serializers.ValidationError(
                {"bn15": [f"{bn15} does not belong to Business Number {importer.bn9}."]}
            )
        return attrs


class ImporterSerializer(serializers.ModelSerializer):
    program_accounts = serializers.SlugRelatedField(many=True, read_only=True, slug_field="bn15")

    class Meta:
        model = Importer
        fields = [
            "id",
            "legal_name",
            "operating_name",
            "bn9",
            "status",
            "address_line1",
            "address_line2",
            "city",
            "province",
            "postal_code",
            "phone",
            "email",
            "assigned_agent",
            "program_accounts",
        ]
        read_only_fields = ["assigned_agent"]

    def validate_bn9(self, value: str) -> str:
        try:
            return normalize_bn9(value)
        except Exception as exc:
            raise serializers.ValidationError(getattr(exc, "messages", [str(exc)])) from None

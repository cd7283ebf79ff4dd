"""Public tariff API: the duty simulator (no login: transparency for traders)."""

from drf_spectacular.utils import extend_schema
from rest_framework import permissions
from rest_framework import serializers as drf_serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from tariff.api.serializers import AssessmentSerializer, SimulationSerializer
from tariff.engine import AssessmentError, assess


class SimulateView(APIView):
    """Compute the duties and taxes of a would-be declaration, every figure explained."""

    permission_classes = [permissions.AllowAny]
    authentication_classes = []

    @extend_schema(
        request=SimulationSerializer, responses=AssessmentSerializer, operation_id="tariff_simulate"
    )
    def post(self, request):
        simulation = SimulationSerializer(data=request.data)
        simulation.is_valid(raise_exception=True)
        try:
            assessment = assess(simulation.to_assessment_input())
        except AssessmentError as error:
            raise drf_serializers.ValidationError({error.field: [str(error)]}) from error
        return Response(AssessmentSerializer(assessment).data)

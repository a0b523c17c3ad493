"""Wayline's AWS deployment as code (AWS CDK v2): one stack, one construct per concern."""

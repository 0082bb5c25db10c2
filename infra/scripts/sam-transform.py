#!/usr/bin/env python3
"""Transforms template.yaml with the AWS SAM translator, as CloudFormation's
AWS::Serverless-2016-10-31 transform does at deploy time, and prints the
resulting CloudFormation template as JSON.

    infra/scripts/sam-transform.py template.yaml [Name=Value ...]

The Name=Value pairs are the stack's parameter values (as samconfig.toml's
parameter_overrides give them); the others take their defaults. SAM resolves
some of them into what it generates (CORS settings, for one), so a stage's
output depends on its parameters.

What this does not do: the AWS::LanguageExtensions transform, which
CloudFormation runs first, is left out (the only extension the template uses,
Fn::If in DeletionPolicy and UpdateReplacePolicy, is kept in the output as
written); CodeUri, which `sam build` and `sam package` replace with an S3
location, becomes a placeholder one. Conditions, Fn::If and parameter
references stay in the output: the caller resolves them for a stage.

Needs aws-sam-translator (pip install aws-sam-translator; cfn-lint brings it).
"""

import json
import os
import sys

from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

LANGUAGE_EXTENSIONS = "AWS::LanguageExtensions"
PLACEHOLDER_CODE = "s3://sam-transform-placeholder/code.zip"


class NoManagedPolicies(ManagedPolicyLoader):
    """The template names managed policies by ARN only, so SAM needs no IAM
    look-up of policy names (and this runs without AWS credentials)."""

    def __init__(self):
        pass

    def load(self):
        return {}


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        template = yaml_parse(f.read())
    params = {}
    for pair in argv[2:]:
        name, sep, value = pair.partition("=")
        if not sep:
            print(f"sam-transform: {pair!r} is not Name=Value", file=sys.stderr)
            return 2
        params[name] = value

    transforms = template.get("Transform", [])
    if isinstance(transforms, str):
        transforms = [transforms]
    transforms = [t for t in transforms if t != LANGUAGE_EXTENSIONS]
    template["Transform"] = transforms[0] if len(transforms) == 1 else transforms
    template.get("Globals", {}).get("Function", {}).pop("CodeUri", None)
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource.setdefault("Properties", {})["CodeUri"] = PLACEHOLDER_CODE

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    try:
        out = transform(template, params, NoManagedPolicies())
    except InvalidDocumentException as e:
        for cause in e.causes:
            print(f"sam-transform: {cause.message}", file=sys.stderr)
        return 1
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

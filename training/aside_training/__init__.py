"""Aside training: parameter-efficient task modules on a frozen ONNX backbone.

Talks to the Node server only through the module file format (docs/module-format.md).
"""

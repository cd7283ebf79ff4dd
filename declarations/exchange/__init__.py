"""Declarations from and to other systems' XML: ASYCUDA World and the WCO Data Model.

The readers (``asycuda.asycuda_read``, ``wcodm.wcodm_read``) are pure: an element tree in, an
``ImportedDeclaration`` out, no database. ``declarations.services.imports`` matches parties and codes
against Kerwen's registers, makes the draft and keeps the report.
"""

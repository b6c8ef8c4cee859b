"""Label content, geometry and rendering: thermal 58/80 mm at 203 dpi, A4 PDF, PNG preview.

The data a label is made from (:class:`LabelData`) has no subject field at all.
"""

from kt1.labels.content import LabelData, ReceiptData
from kt1.labels.layout import GEOMETRIES, Geometry, Layout, geometry
from kt1.labels.raster import Rendered, render_label, render_receipt, render_test_page

__all__ = [
    "GEOMETRIES",
    "Geometry",
    "LabelData",
    "Layout",
    "ReceiptData",
    "Rendered",
    "geometry",
    "render_label",
    "render_receipt",
    "render_test_page",
]

"""The heterogeneous quantizer, its fixed-point math and its configuration."""

from .config import get_default_kq_conf, get_default_paq_conf, set_default_kq_conf, set_default_paq_conf
from .quantizer import Quantizer

__all__ = ["Quantizer", "get_default_kq_conf", "get_default_paq_conf", "set_default_kq_conf",
           "set_default_paq_conf"]

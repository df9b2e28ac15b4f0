import pathlib
import sys

# suite_compare.py lives beside the tests and is imported by name.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

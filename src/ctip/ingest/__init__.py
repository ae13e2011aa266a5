"""Import: read agency files (CSV, XLSX, JSON Lines), map them onto case records, write safe files.

Pure functions over rows; no database here (services/importing.py stores what this produces).
"""

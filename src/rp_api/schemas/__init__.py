"""Request and response models (pydantic): lowerCamelCase JSON, every schema with examples."""

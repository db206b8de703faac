"""Item features: frozen encoder outputs per modality, cached per item."""

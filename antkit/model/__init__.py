"""antkit.model"""

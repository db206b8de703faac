"""antkit.evaluation"""

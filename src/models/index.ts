// models: public exports

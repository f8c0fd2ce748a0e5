// train: public exports

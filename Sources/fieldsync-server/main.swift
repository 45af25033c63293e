// fieldsync-server: the central server of FieldSync. See `fieldsync-server --help`.
await ServerCommand.start()

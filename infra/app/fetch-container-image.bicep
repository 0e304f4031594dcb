// The containers of an existing container app, or none: lets a re-provision keep the image `azd deploy` pushed
// instead of resetting the app to the placeholder. A module of its own so the read happens before the app is
// updated in the same deployment (the azd templates' pattern).

@description('Whether the container app exists (azd: SERVICE_<NAME>_RESOURCE_EXISTS).')
param exists bool

@description('Container app name.')
param name string

resource existingApp 'Microsoft.App/containerApps@2025-07-01' existing = if (exists) {
  name: name
}

@description('The app\'s containers (image, name, ...), or an empty array when it does not exist yet.')
output containers array = exists ? existingApp!.properties.template.containers : []

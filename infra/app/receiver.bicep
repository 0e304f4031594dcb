// WebSocket transcript receiver on Container Apps: ACS streams real-time transcription (and media) over a
// WebSocket to this service (receiver/, image built from receiver/Dockerfile). azd deploys it as the `receiver`
// service of azure.yaml: provision creates the environment and the app, `azd deploy` pushes the image to the
// registry and swaps it in.

@description('Container Apps environment name.')
param environmentName string

@description('Container app name.')
param name string

@description('Location of both resources.')
param location string = resourceGroup().location

@description('Tags; the azd-service-name tag is added so `azd deploy` finds the app.')
param tags object = {}

@description('azd service name in azure.yaml.')
param serviceName string = 'receiver'

@description('Whether the container app already exists (azd sets SERVICE_RECEIVER_RESOURCE_EXISTS before provisioning).')
param exists bool = false

@description('Login server of the registry azd pushes the image to, e.g. cr<token>.azurecr.io.')
param registryLoginServer string

@description('Port the receiver listens on inside the container: the CMD of receiver/Dockerfile binds it.')
param targetPort int = 8080

@description('Path of the WebSocket endpoint ACS connects to (receiver/app.py WEBSOCKET_PATH).')
param websocketPath string = '/ws'

@description('Fewest replicas; 0 scales to zero between calls at the price of a cold start on the next one.')
@minValue(0)
param minReplicas int = 1

@description('Most replicas.')
@minValue(1)
param maxReplicas int = 10

@description('Log Analytics workspace for the environment logs.')
param logAnalyticsWorkspaceResourceId string

@description('User-assigned identity the receiver runs as: table access and AcrPull (rbac.bicep).')
param identityId string

@description('Client id of that identity.')
param identityClientId string

@description('Shared token ACS presents on the WebSocket (the app adds it to the transport URL).')
@secure()
param token string

@description('Table endpoint where the receiver stores transcripts.')
param storageTableEndpoint string

@description('Transcripts table name.')
param transcriptsTableName string

// The usual azd pattern: until the first `azd deploy` pushes the receiver image, the app runs a public hello-world
// image (it listens on port 80, not targetPort, so that first revision reports unhealthy for the few minutes until
// azd deploy replaces it). On every later provision the image azd deployed is kept, read from the running app.
var placeholderImage = 'mcr.microsoft.com/azuredocs/containerapps-helloworld:latest'

module fetchLatestImage 'fetch-container-image.bicep' = {
  name: '${serviceName}-fetch-image'
  params: {
    exists: exists
    name: name
  }
}

module environment 'br/public:avm/res/app/managed-environment:0.15.0' = {
  name: 'receiverEnvironment'
  params: {
    name: environmentName
    location: location
    tags: tags
    publicNetworkAccess: 'Enabled' // ACS connects from the internet; there is no VNet in this template
    zoneRedundant: false // zone redundancy needs a VNet-injected environment
    workloadProfiles: [
      {
        name: 'Consumption' // serverless, billed per use; scale to zero possible
        workloadProfileType: 'Consumption'
      }
    ]
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsWorkspaceResourceId: logAnalyticsWorkspaceResourceId
    }
  }
}

module receiver 'br/public:avm/res/app/container-app:0.23.0' = {
  name: 'receiverApp'
  params: {
    name: name
    location: location
    tags: union(tags, { 'azd-service-name': serviceName })
    environmentResourceId: environment.outputs.resourceId
    workloadProfileName: 'Consumption'
    managedIdentities: {
      userAssignedResourceIds: [
        identityId
      ]
    }
    // Images are pulled with the identity (AcrPull in rbac.bicep): the registry has no admin user or passwords.
    registries: [
      {
        server: registryLoginServer
        identity: identityId
      }
    ]
    ingressExternal: true // ACS connects from outside Azure's private networks
    ingressTransport: 'http' // WebSocket upgrades ride on HTTP/1.1
    ingressTargetPort: targetPort
    ingressAllowInsecure: false // wss:// only; plain ws:// would carry the token in clear
    secrets: [
      {
        name: 'receiver-token'
        value: token
      }
    ]
    scaleSettings: {
      minReplicas: minReplicas
      maxReplicas: maxReplicas
    }
    containers: [
      {
        name: serviceName
        image: fetchLatestImage.outputs.?containers[?0].?image ?? placeholderImage
        resources: {
          cpu: json('0.5')
          memory: '1Gi'
        }
        // Only variables receiver/config.py reads; host and port are fixed by the image's CMD.
        env: [
          {
            name: 'RECEIVER_TOKEN'
            secretRef: 'receiver-token'
          }
          {
            name: 'AZURE_CLIENT_ID'
            value: identityClientId
          }
          {
            name: 'STORAGE_TABLE_ENDPOINT'
            value: storageTableEndpoint
          }
          {
            name: 'TRANSCRIPTS_TABLE_NAME'
            value: transcriptsTableName
          }
        ]
        probes: [
          {
            type: 'Liveness'
            httpGet: {
              path: '/health'
              port: targetPort
            }
            periodSeconds: 30
          }
          {
            type: 'Readiness'
            httpGet: {
              path: '/health'
              port: targetPort
            }
            periodSeconds: 10
          }
        ]
      }
    ]
  }
}

@description('Container app name (SERVICE_RECEIVER_NAME).')
output name string = receiver.outputs.name

@description('Container Apps environment name.')
output environmentName string = environment.outputs.name

@description('HTTPS base URL of the receiver (GET /health, GET /streams).')
output uri string = 'https://${receiver.outputs.fqdn}'

@description('WebSocket URL to give ACS as the transport URL (RECEIVER_WEBSOCKET_URL).')
output websocketUrl string = 'wss://${receiver.outputs.fqdn}${websocketPath}'
